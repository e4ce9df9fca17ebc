import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    ChamaCreated: event("0xbe6dbdaf0177ccf054d9a3e59c3f7b79c4f8d5937811b47f6a7dce09cefb634f", "ChamaCreated(uint256,address,string,uint256)", {"chamaId": indexed(p.uint256), "creator": indexed(p.address), "name": p.string, "contributionAmount": p.uint256}),
    ContributionMade: event("0xf9b7589b7a8d939b9da5dae90770378fe5fd7802be5d66432e85bedbdbfbcb7a", "ContributionMade(uint256,address,uint256,uint256)", {"chamaId": indexed(p.uint256), "contributor": indexed(p.address), "amount": p.uint256, "timestamp": p.uint256}),
    PayoutProcessed: event("0xb4aeb9fb59644d1c26001b986295cde5bbfae34be7c5240fbccf4c37308e20fe", "PayoutProcessed(uint256,address,uint256,uint256)", {"chamaId": indexed(p.uint256), "recipient": indexed(p.address), "amount": p.uint256, "timestamp": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type ChamaCreatedEventArgs = EParams<typeof events.ChamaCreated>
export type ContributionMadeEventArgs = EParams<typeof events.ContributionMade>
export type PayoutProcessedEventArgs = EParams<typeof events.PayoutProcessed>
