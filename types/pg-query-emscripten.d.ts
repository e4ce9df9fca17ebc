declare module "pg-query-emscripten" {
  /** Loads the libpg_query wasm module. */
  export default function Parser(): Promise<{ parse: (sql: string) => unknown }>;
}
