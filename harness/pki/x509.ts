/**
 * @peculiar/x509 set up for Node: its dependency injection needs the reflect-metadata polyfill loaded
 * first, and it needs a WebCrypto provider. Every harness module imports x509 from here.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
