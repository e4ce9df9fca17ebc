import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, Index as Index_} from "@subsquid/typeorm-store"

@Entity_()
export class ChamaDay {
    constructor(props?: Partial<ChamaDay>) {
        Object.assign(this, props)
    }

    /**
     * <chamaId>-<day>
     */
    @PrimaryColumn_()
    id!: string

    @BigIntColumn_({nullable: false})
    chamaId!: bigint

    @Index_()
    @IntColumn_({nullable: false})
    day!: number

    @BigIntColumn_({nullable: false})
    contributed!: bigint

    @BigIntColumn_({nullable: false})
    paidOut!: bigint

    @IntColumn_({nullable: false})
    contributionCount!: number

    @IntColumn_({nullable: false})
    payoutCount!: number
}
