import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The thin client. Its configuration (indexer URL, RPC URL, chain id, contract address)
 * arrives as VITE_* environment variables, set by `npm run dev` or by the deployer. */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true },
});
