import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class Account {
    constructor(props?: Partial<Account>) {
        Object.assign(this, props)
    }

    /**
     * The address, lowercase.
     */
    @PrimaryColumn_()
    id!: string

    @BigIntColumn_({nullable: false})
    totalContributed!: bigint

    @BigIntColumn_({nullable: false})
    totalReceived!: bigint

    @IntColumn_({nullable: false})
    contributionCount!: number

    @IntColumn_({nullable: false})
    payoutCount!: number

    @IntColumn_({nullable: false})
    chamaCount!: number
}
