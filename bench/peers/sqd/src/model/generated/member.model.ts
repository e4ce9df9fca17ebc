import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, StringColumn as StringColumn_, Index as Index_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class Member {
    constructor(props?: Partial<Member>) {
        Object.assign(this, props)
    }

    /**
     * <chamaId>-<address>
     */
    @PrimaryColumn_()
    id!: string

    @BigIntColumn_({nullable: false})
    chamaId!: bigint

    @Index_()
    @StringColumn_({nullable: false})
    address!: string

    @BigIntColumn_({nullable: false})
    totalContributed!: bigint

    @BigIntColumn_({nullable: false})
    totalReceived!: bigint

    @IntColumn_({nullable: false})
    contributionCount!: number

    @IntColumn_({nullable: false})
    payoutCount!: number

    @BigIntColumn_({nullable: true})
    firstContributionAt!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    lastContributionAt!: bigint | undefined | null
}
