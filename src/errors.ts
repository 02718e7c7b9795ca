/** A problem the user can fix (bad input, missing tool, unreachable engine): shown as one line, exit 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
