/**
 * The power seam: switching a rig's supply. Bindings: the virtual kit's control port, a uhubctl hub
 * port, a USB HID relay channel (node-hid), an external command, and a person (manual).
 *
 * Contract: on() and off() resolve once the state is applied (a driver that cannot know waits its
 * documented settle time); cycle() is off, a pause long enough for the rig to lose power, then on.
 * Every call is a logged step. A failure is a PowerError (an infrastructure error) naming the driver and
 * what it tried.
 */
import { InfrastructureError } from "../errors.ts";

/** The rig's power switch failed: the bench, not the kit ("[infrastructure]", CLI exit 3). */
export class PowerError extends InfrastructureError {}

export interface PowerDriver {
  readonly description: string;
  on(): Promise<void>;
  off(): Promise<void>;
  cycle(): Promise<void>;
}
