// The subset of bun:sqlite this package uses (Bun's own types are not a dependency).
declare module "bun:sqlite" {
  export interface BunStatement {
    all(...params: unknown[]): Record<string, unknown>[];
    get(...params: unknown[]): Record<string, unknown> | null;
    run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    finalize(): void;
  }
  export class Database {
    constructor(
      filename: string,
      options?: {
        readonly?: boolean;
        create?: boolean;
        readwrite?: boolean;
        safeIntegers?: boolean;
        strict?: boolean;
      },
    );
    exec(sql: string): void;
    prepare(sql: string): BunStatement;
    close(throwOnError?: boolean): void;
  }
}
