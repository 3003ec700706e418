import { expect, test } from "@playwright/test";
import { dumpLineBytes, hexDump } from "./hex-dump.ts";
import { maskSecrets } from "./mask.ts";

const SECRET = "s3cr3t-pass";
const forms = [SECRET, Buffer.from(SECRET).toString("hex"), Buffer.from(SECRET).toString("hex").toUpperCase()];

test("a passphrase is masked in clear, as hex text, and in hex dumps that split it across lines", () => {
  const json = `{"method": "setWifi", "params": {"ssid": "lab", "psk": "${SECRET}"}, "id": 3}`;
  const kitLine = `board:app(${Buffer.from(json).toString("hex")})\n`;
  const lines = [
    "  Password: " + SECRET,
    ...hexDump(Buffer.from(json)).split("\r\n").slice(0, -1), // the JSON dump: the secret spans two lines
    "Incoming Kit Protocol command message:",
    ...hexDump(Buffer.from(kitLine)).split("\r\n").slice(0, -1), // the hex text of the JSON, dumped
    `> ${kitLine.trim()}`,
    "SUCCESS:  nothing secret here",
  ];
  const joinedBytes = (ls: string[]) => Buffer.from(ls.flatMap((l) => dumpLineBytes(l) ?? []));
  expect(forms.some((f) => joinedBytes(lines).toString("latin1").includes(f))).toBe(true); // the test input holds it
  const out = maskSecrets(lines, [SECRET, null]);
  expect(out).toHaveLength(lines.length);
  for (const f of forms) {
    expect(out.join("\n")).not.toContain(f);
    expect(joinedBytes(out).toString("latin1")).not.toContain(f);
  }
  expect(out[0]).toBe("  Password: ***********");
  expect(out.at(-1)).toBe("SUCCESS:  nothing secret here");
  // The dumps keep the firmware's format (addresses, spacing), only the bytes changed.
  expect(out.filter((l) => dumpLineBytes(l) !== null).map((l) => l.slice(0, 10))).toEqual(lines.filter((l) => dumpLineBytes(l) !== null).map((l) => l.slice(0, 10)));
  expect(maskSecrets(lines, [])).toEqual(lines);
});
