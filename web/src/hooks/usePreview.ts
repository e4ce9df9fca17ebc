/** The chain reads the review step needs: the account's balance and the fee estimate
 * (`estimateGas` × `getGasPrice` for the wallet's account), with a revert kept as the answer. */
import { useEffect, useMemo, useState } from "react";
import {
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  BaseError,
  ExecutionRevertedError,
  createPublicClient,
  http,
} from "viem";
import { useApp } from "../appContext";
import { chainFor } from "../../../common/chain";
import type { ActionParams } from "../sync/types";
import { callFor, isUnreachable, revertReason } from "../sync/viemChain";

export type PreviewActionParameters = {
  publicClient: PublicClient<Transport, Chain>;
  /** The Chama contract. */
  address: Address;
  /** The account that would sign. */
  account: Address;
  params: ActionParams;
};

export type PreviewActionReturnType = {
  /** Wei the account sends with the call. */
  value: bigint;
  /** The account's balance now; undefined if the chain could not be asked. */
  balance: bigint | undefined;
  /** Estimated gas × current gas price; undefined if either could not be had. */
  fee: { gas: bigint; gasPrice: bigint; wei: bigint } | undefined;
  /** Why the fee is unknown (the RPC unreachable, a refusal that is not a revert). */
  feeError: string | undefined;
  /** Estimation failed because the call would revert: the error, to decode. */
  revert: BaseError | undefined;
};

/** True when a failed estimate is the contract refusing, not the node or the network. */
function isRevert(error: unknown): error is BaseError {
  if (!(error instanceof BaseError) || isUnreachable(error)) return false;
  return (
    error.walk((e) => {
      if (e instanceof ExecutionRevertedError) return true;
      const data = (e as { data?: unknown }).data;
      return typeof data === "string" && data.startsWith("0x") && data.length >= 10;
    }) !== null
  );
}

/** What an action would cost the account before it is signed. Never throws: what could not
 * be read is undefined, with the reason. */
export async function previewAction(params: PreviewActionParameters): Promise<PreviewActionReturnType> {
  const { publicClient, address, account } = params;
  const call = callFor(params.params);
  const [balance, gas, gasPrice] = await Promise.allSettled([
    publicClient.getBalance({ address: account }),
    publicClient.estimateGas({ account, to: address, ...call }),
    publicClient.getGasPrice(),
  ]);
  const fee =
    gas.status === "fulfilled" && gasPrice.status === "fulfilled"
      ? { gas: gas.value, gasPrice: gasPrice.value, wei: gas.value * gasPrice.value }
      : undefined;
  let revert: BaseError | undefined;
  let feeError: string | undefined;
  if (gas.status === "rejected") {
    if (isRevert(gas.reason)) revert = gas.reason;
    else feeError = revertReason(gas.reason);
  } else if (gasPrice.status === "rejected") {
    feeError = revertReason(gasPrice.reason);
  }
  return { value: call.value, balance: balance.status === "fulfilled" ? balance.value : undefined, fee, feeError, revert };
}

export type PreviewState = { kind: "loading" } | ({ kind: "ready" } & PreviewActionReturnType);

/** The review's own reader of the chain (the engine's port is for sending). */
function usePreviewClient(): PublicClient<Transport, Chain> {
  const { config } = useApp();
  return useMemo(
    () =>
      createPublicClient({
        chain: chainFor({ chainId: config.chainId, rpcUrl: config.rpcUrl }),
        transport: http(config.rpcUrl, { retryCount: 1, timeout: 10_000 }),
        cacheTime: 0,
      }),
    [config.chainId, config.rpcUrl],
  );
}

/** Reads the preview of `params` for `account` (again if either changes); loading without an account. */
export function usePreview(params: { account: Address | undefined; params: ActionParams }): PreviewState {
  const publicClient = usePreviewClient();
  const { config } = useApp();
  const [state, setState] = useState<PreviewState>({ kind: "loading" });
  const { account, params: action } = params;
  useEffect(() => {
    if (!account) return;
    let live = true;
    setState({ kind: "loading" });
    void previewAction({ publicClient, address: config.chamaAddress, account, params: action }).then((preview) => {
      if (live) setState({ kind: "ready", ...preview });
    });
    return () => {
      live = false;
    };
  }, [publicClient, config.chamaAddress, account, action]);
  return state;
}
