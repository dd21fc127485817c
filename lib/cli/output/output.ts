import { toJsonText } from './json.js';

/** Where the tool writes: stdout for results, stderr for messages. */
export interface Streams {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * How a command prints its result: one JSON document with `--json` (and nothing else on
 * stdout, so a script can parse it whole), else text for people.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly streams: Streams,
  ) {}

  /** Prints `document` as JSON, or the text `human` builds (only built when it is needed). */
  result(document: unknown, human: () => string): void {
    this.streams.stdout(this.json ? toJsonText(document, 2) : human());
  }
}
