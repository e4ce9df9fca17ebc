/** App-wide state: configuration, the display unit, the connected wallet and the API's ledger. */
import { createContext, useContext } from "react";
import type { AppConfig } from "./config";
import type { LedgerClient } from "./ledger";
import type { Action, ActionParams } from "./sync/types";
import type { Unit } from "./units";
import type { Wallet } from "./wallet";

export type AppContextValue = {
  config: AppConfig;
  unit: Unit;
  wallet: Wallet | undefined;
  /** The API's transaction ledger: the relay, and every member's actions. */
  ledger: LedgerClient;
  /** Records the action (shown at once) and lets the engine send it. One `intentId` per
   * intent (a click, a review's Confirm): a repeat with the same id returns the first action. */
  submit: (params: ActionParams, options?: { intentId?: string }) => Action;
  /** Tries a finished failure again; throws (RetryRefusedError) where a retry cannot succeed. */
  retry: (id: string) => Promise<void>;
  /** Hides a finished failure for good, in every tab. */
  dismiss: (id: string) => void;
};

export const AppContext = createContext<AppContextValue | undefined>(undefined);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp needs an <AppContext.Provider>");
  return value;
}
