/**
 * The emulator's notion of "now". It runs with real time (so successive calls get increasing
 * timestamps, as against AWS) but can be moved: tests push it forward to make import tokens
 * (valid 24 hours, GetParametersForImport API reference) or key material (ValidTo,
 * ImportKeyMaterial API reference) expire without waiting.
 */
export class EmulatorClock {
  private offsetMs: number;

  constructor(start?: Date) {
    this.offsetMs = start ? start.getTime() - Date.now() : 0;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock forward (or back, for a negative value) by `ms` milliseconds. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Moves the clock to `d`; it keeps running from there. */
  set(d: Date): void {
    this.offsetMs = d.getTime() - Date.now();
  }
}
