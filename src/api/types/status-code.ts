/** LXD status codes (shared/api/status_code.go): operations, instances and responses share them. */

export const StatusCode = {
  OperationCreated: 100,
  Started: 101,
  Stopped: 102,
  Running: 103,
  Cancelling: 104,
  Pending: 105,
  Starting: 106,
  Stopping: 107,
  Aborting: 108,
  Freezing: 109,
  Frozen: 110,
  Thawed: 111,
  Error: 112,
  Ready: 113,
  Success: 200,
  Failure: 400,
  Cancelled: 401,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/** The status string LXD pairs with each code (`StatusCode.String()`). */
export const STATUS_TEXT: Readonly<Record<StatusCode, string>> = {
  100: 'Operation created',
  101: 'Started',
  102: 'Stopped',
  103: 'Running',
  104: 'Cancelling',
  105: 'Pending',
  106: 'Starting',
  107: 'Stopping',
  108: 'Aborting',
  109: 'Freezing',
  110: 'Frozen',
  111: 'Thawed',
  112: 'Error',
  113: 'Ready',
  200: 'Success',
  400: 'Failure',
  401: 'Cancelled',
};

/** True for 200, 400 and 401: an operation in such a state never changes again. */
export function isFinalStatus(code: number): boolean {
  return code >= 200;
}
