import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class Chama {
    constructor(props?: Partial<Chama>) {
        Object.assign(this, props)
    }

    /**
     * The chama's on-chain id, in decimal.
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    name!: string

    @Index_()
    @StringColumn_({nullable: false})
    creator!: string

    @BigIntColumn_({nullable: false})
    contributionAmount!: bigint

    @BigIntColumn_({nullable: false})
    totalContributed!: bigint

    @BigIntColumn_({nullable: false})
    totalPaidOut!: bigint

    @BigIntColumn_({nullable: false})
    balance!: bigint

    @IntColumn_({nullable: false})
    contributionCount!: number

    @IntColumn_({nullable: false})
    payoutCount!: number

    @IntColumn_({nullable: false})
    memberCount!: number

    @BigIntColumn_({nullable: false})
    createdAtBlock!: bigint

    @BigIntColumn_({nullable: false})
    createdAtTimestamp!: bigint

    @StringColumn_({nullable: false})
    createdTxHash!: string
}
