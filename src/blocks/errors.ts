/** A request about memory files that cannot be served as asked (a bad label, a file that is not memory). */
export class BlockInputError extends Error {
  constructor(
    /** Stable machine-readable code, e.g. "label.invalid". */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
