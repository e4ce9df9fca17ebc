/**
 * The project's tables (chama, contribution, payout, member, account, chama_day), built the SQD
 * way: decode a batch of logs, load the derived rows it touches in one query per table, fold
 * the events into them in memory, and write each table once per batch.
 */
import {TypeormDatabase} from '@subsquid/typeorm-store'
import {In} from 'typeorm'
import * as chamaAbi from './abi/Chama'
import {Account, Chama, ChamaDay, Contribution, Member, Payout} from './model'
import {CHAMA_ADDRESS, processor} from './processor'

const SECONDS_PER_DAY = 86_400n

type Created = {kind: 'created'; id: string; chamaId: bigint; creator: string; name: string; contributionAmount: bigint; block: bigint; timestamp: bigint; txHash: string}
type Moved = {kind: 'contribution' | 'payout'; id: string; chamaId: bigint; who: string; amount: bigint; timestamp: bigint; block: bigint; txHash: string; logIndex: number}

processor.run(new TypeormDatabase({supportHotBlocks: true}), async (ctx) => {
    // 1. Decode, in chain order.
    const events: (Created | Moved)[] = []
    for (const block of ctx.blocks) {
        for (const log of block.logs) {
            if (log.address !== CHAMA_ADDRESS) continue
            const base = {id: log.id, block: BigInt(block.header.height), txHash: log.transactionHash}
            if (log.topics[0] === chamaAbi.events.ChamaCreated.topic) {
                const e = chamaAbi.events.ChamaCreated.decode(log)
                // SQD block timestamps are in milliseconds; the contract's are in seconds.
                events.push({...base, kind: 'created', chamaId: e.chamaId, creator: e.creator.toLowerCase(), name: e.name, contributionAmount: e.contributionAmount, timestamp: BigInt(block.header.timestamp / 1000)})
            } else if (log.topics[0] === chamaAbi.events.ContributionMade.topic) {
                const e = chamaAbi.events.ContributionMade.decode(log)
                events.push({...base, kind: 'contribution', chamaId: e.chamaId, who: e.contributor.toLowerCase(), amount: e.amount, timestamp: e.timestamp, logIndex: log.logIndex})
            } else if (log.topics[0] === chamaAbi.events.PayoutProcessed.topic) {
                const e = chamaAbi.events.PayoutProcessed.decode(log)
                events.push({...base, kind: 'payout', chamaId: e.chamaId, who: e.recipient.toLowerCase(), amount: e.amount, timestamp: e.timestamp, logIndex: log.logIndex})
            }
        }
    }
    if (events.length === 0) return

    // 2. Load every derived row the batch touches: one query per table.
    const moved = events.filter((e): e is Moved => e.kind !== 'created')
    const memberId = (chamaId: bigint, who: string) => `${chamaId}-${who}`
    const dayOf = (timestamp: bigint) => Number(timestamp / SECONDS_PER_DAY)
    const dayId = (chamaId: bigint, day: number) => `${chamaId}-${day}`
    const ids = (keys: string[]) => ({id: In([...new Set(keys)])})
    const byId = <E extends {id: string}>(rows: E[]) => new Map(rows.map((row) => [row.id, row]))
    const chamas = byId(await ctx.store.findBy(Chama, ids(moved.map((e) => e.chamaId.toString()))))
    const members = byId(await ctx.store.findBy(Member, ids(moved.map((e) => memberId(e.chamaId, e.who)))))
    const accounts = byId(await ctx.store.findBy(Account, ids(moved.map((e) => e.who))))
    const days = byId(await ctx.store.findBy(ChamaDay, ids(moved.map((e) => dayId(e.chamaId, dayOf(e.timestamp))))))

    // 3. Fold the events into them, in order.
    const contributions: Contribution[] = []
    const payouts: Payout[] = []
    for (const e of events) {
        if (e.kind === 'created') {
            chamas.set(e.chamaId.toString(), new Chama({
                id: e.chamaId.toString(), name: e.name, creator: e.creator, contributionAmount: e.contributionAmount,
                totalContributed: 0n, totalPaidOut: 0n, balance: 0n, contributionCount: 0, payoutCount: 0, memberCount: 0,
                createdAtBlock: e.block, createdAtTimestamp: e.timestamp, createdTxHash: e.txHash,
            }))
            continue
        }
        const isContribution = e.kind === 'contribution'
        const contributed = isContribution ? e.amount : 0n
        const received = isContribution ? 0n : e.amount
        const row = {id: e.id, chamaId: e.chamaId, amount: e.amount, timestamp: e.timestamp, blockNumber: e.block, transactionHash: e.txHash, logIndex: e.logIndex}
        if (isContribution) contributions.push(new Contribution({...row, contributor: e.who}))
        else payouts.push(new Payout({...row, recipient: e.who}))

        const mId = memberId(e.chamaId, e.who)
        let member = members.get(mId)
        if (!member) {
            member = new Member({id: mId, chamaId: e.chamaId, address: e.who, totalContributed: 0n, totalReceived: 0n, contributionCount: 0, payoutCount: 0, firstContributionAt: null, lastContributionAt: null})
            members.set(mId, member)
        }
        member.totalContributed += contributed
        member.totalReceived += received
        // An address's first contribution to a chama makes it a member of it.
        const newMember = isContribution && member.contributionCount === 0 ? 1 : 0
        if (isContribution) {
            member.contributionCount += 1
            member.firstContributionAt ??= e.timestamp
            member.lastContributionAt = e.timestamp
        } else member.payoutCount += 1

        const chama = chamas.get(e.chamaId.toString())
        if (!chama) throw new Error(`Chama ${e.chamaId} has an event but no ChamaCreated: the start block is after its creation.`)
        chama.totalContributed += contributed
        chama.totalPaidOut += received
        chama.balance += contributed - received
        chama.contributionCount += isContribution ? 1 : 0
        chama.payoutCount += isContribution ? 0 : 1
        chama.memberCount += newMember

        let account = accounts.get(e.who)
        if (!account) {
            account = new Account({id: e.who, totalContributed: 0n, totalReceived: 0n, contributionCount: 0, payoutCount: 0, chamaCount: 0})
            accounts.set(e.who, account)
        }
        account.totalContributed += contributed
        account.totalReceived += received
        account.contributionCount += isContribution ? 1 : 0
        account.payoutCount += isContribution ? 0 : 1
        account.chamaCount += newMember

        const day = dayOf(e.timestamp)
        const dId = dayId(e.chamaId, day)
        let chamaDay = days.get(dId)
        if (!chamaDay) {
            chamaDay = new ChamaDay({id: dId, chamaId: e.chamaId, day, contributed: 0n, paidOut: 0n, contributionCount: 0, payoutCount: 0})
            days.set(dId, chamaDay)
        }
        chamaDay.contributed += contributed
        chamaDay.paidOut += received
        chamaDay.contributionCount += isContribution ? 1 : 0
        chamaDay.payoutCount += isContribution ? 0 : 1
    }

    // 4. One write per table.
    await ctx.store.upsert([...chamas.values()])
    await ctx.store.insert(contributions)
    await ctx.store.insert(payouts)
    await ctx.store.upsert([...members.values()])
    await ctx.store.upsert([...accounts.values()])
    await ctx.store.upsert([...days.values()])
})
