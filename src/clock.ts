/** The clock port: services ask it for the time; pure code is handed the time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
