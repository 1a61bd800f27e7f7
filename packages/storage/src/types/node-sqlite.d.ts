// The subset of node:sqlite this package uses (@types/node 20 predates the module).
declare module "node:sqlite" {
  export interface StatementSync {
    all(...params: unknown[]): Record<string, unknown>[];
    get(...params: unknown[]): Record<string, unknown> | undefined;
    run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
    setReadBigInts(enabled: boolean): void;
  }
  export class DatabaseSync {
    constructor(
      location: string,
      options?: { open?: boolean; readOnly?: boolean; enableForeignKeyConstraints?: boolean },
    );
    exec(sql: string): void;
    prepare(sql: string): StatementSync;
    close(): void;
  }
}
