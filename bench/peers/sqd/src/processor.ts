import {assertNotNull} from '@subsquid/util-internal'
import {
    BlockHeader,
    DataHandlerContext,
    EvmBatchProcessor,
    EvmBatchProcessorFields,
    Log as _Log,
} from '@subsquid/evm-processor'
import * as chama from './abi/Chama'

/** The Chama contract, lowercase: SQD hands out addresses in lowercase. */
export const CHAMA_ADDRESS = assertNotNull(process.env.CHAMA_ADDRESS, 'Set CHAMA_ADDRESS to the Chama contract address.').toLowerCase()

export const processor = new EvmBatchProcessor()
    // RPC only: the chain is a local anvil, there is no SQD Network gateway for it.
    .setRpcEndpoint({
        url: assertNotNull(process.env.RPC_URL, 'Set RPC_URL to the chain\'s JSON-RPC endpoint.'),
    })
    // The same 30-block finality the project's indexer uses on this chain.
    .setFinalityConfirmation(30)
    .setBlockRange({from: Number(assertNotNull(process.env.CHAMA_START_BLOCK, 'Set CHAMA_START_BLOCK to the deploy block.'))})
    .setFields({
        block: {timestamp: true},
        log: {transactionHash: true},
    })
    .addLog({
        address: [CHAMA_ADDRESS],
        topic0: [chama.events.ChamaCreated.topic, chama.events.ContributionMade.topic, chama.events.PayoutProcessed.topic],
    })

export type Fields = EvmBatchProcessorFields<typeof processor>
export type Block = BlockHeader<Fields>
export type Log = _Log<Fields>
export type ProcessorContext<Store> = DataHandlerContext<Store, Fields>
