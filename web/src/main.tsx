import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Client, Provider, cacheExchange, fetchExchange } from "urql";
import { App } from "./App";
import { AppConfigError, readConfig } from "./config";
import { savedAnswers, savedFetch } from "./savedAnswers";
import { startShell } from "./swRegister";
import "./styles.css";

// The offline shell: a production build registers its service worker; dev has none (swRegister.ts).
startShell({ production: import.meta.env.PROD, base: import.meta.env.BASE_URL });

const root = createRoot(document.getElementById("root")!);

try {
  const config = readConfig(import.meta.env);
  /** The app's one urql client. */
  // POST always: Ponder answers GET on /graphql with GraphiQL. The views' answers are saved, and
  // shown marked as saved when the indexer cannot be reached (savedAnswers.ts).
  const client = new Client({
    url: `${config.indexerUrl}/graphql`,
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    fetch: savedFetch(savedAnswers),
  });
  root.render(
    <StrictMode>
      <Provider value={client}>
        <App config={config} />
      </Provider>
    </StrictMode>,
  );
} catch (error) {
  if (!(error instanceof AppConfigError)) throw error;
  root.render(
    <main className="layout">
      <section>
        <h1>Jenga Index is not configured</h1>
        <p className="error" data-testid="config-error">
          {error.message}
        </p>
      </section>
    </main>,
  );
}
