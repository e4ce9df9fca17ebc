module.exports = class Data1796236328534 {
    name = 'Data1796236328534'

    async up(db) {
        await db.query(`CREATE TABLE "chama" ("id" character varying NOT NULL, "name" text NOT NULL, "creator" text NOT NULL, "contribution_amount" numeric NOT NULL, "total_contributed" numeric NOT NULL, "total_paid_out" numeric NOT NULL, "balance" numeric NOT NULL, "contribution_count" integer NOT NULL, "payout_count" integer NOT NULL, "member_count" integer NOT NULL, "created_at_block" numeric NOT NULL, "created_at_timestamp" numeric NOT NULL, "created_tx_hash" text NOT NULL, CONSTRAINT "PK_5c0575a8f0637bf6f719ba98a97" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_6e1ee66789bd157367a1aa406b" ON "chama" ("creator") `)
        await db.query(`CREATE TABLE "contribution" ("id" character varying NOT NULL, "chama_id" numeric NOT NULL, "contributor" text NOT NULL, "amount" numeric NOT NULL, "timestamp" numeric NOT NULL, "block_number" numeric NOT NULL, "transaction_hash" text NOT NULL, "log_index" integer NOT NULL, CONSTRAINT "PK_878330fa5bb34475732a5883d58" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_07037f825511a714431163d0fb" ON "contribution" ("chama_id") `)
        await db.query(`CREATE INDEX "IDX_bd05d508a31e76c0a6f2c12821" ON "contribution" ("contributor") `)
        await db.query(`CREATE TABLE "payout" ("id" character varying NOT NULL, "chama_id" numeric NOT NULL, "recipient" text NOT NULL, "amount" numeric NOT NULL, "timestamp" numeric NOT NULL, "block_number" numeric NOT NULL, "transaction_hash" text NOT NULL, "log_index" integer NOT NULL, CONSTRAINT "PK_1cb73ce021dc6618a3818b0a474" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_022f32284e1972e97501caeccb" ON "payout" ("chama_id") `)
        await db.query(`CREATE INDEX "IDX_41f9b99c4f93731c05fa366f72" ON "payout" ("recipient") `)
        await db.query(`CREATE TABLE "member" ("id" character varying NOT NULL, "chama_id" numeric NOT NULL, "address" text NOT NULL, "total_contributed" numeric NOT NULL, "total_received" numeric NOT NULL, "contribution_count" integer NOT NULL, "payout_count" integer NOT NULL, "first_contribution_at" numeric, "last_contribution_at" numeric, CONSTRAINT "PK_97cbbe986ce9d14ca5894fdc072" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_21142d53b15bdf18b1a37905d7" ON "member" ("address") `)
        await db.query(`CREATE TABLE "account" ("id" character varying NOT NULL, "total_contributed" numeric NOT NULL, "total_received" numeric NOT NULL, "contribution_count" integer NOT NULL, "payout_count" integer NOT NULL, "chama_count" integer NOT NULL, CONSTRAINT "PK_54115ee388cdb6d86bb4bf5b2ea" PRIMARY KEY ("id"))`)
        await db.query(`CREATE TABLE "chama_day" ("id" character varying NOT NULL, "chama_id" numeric NOT NULL, "day" integer NOT NULL, "contributed" numeric NOT NULL, "paid_out" numeric NOT NULL, "contribution_count" integer NOT NULL, "payout_count" integer NOT NULL, CONSTRAINT "PK_483475522b29850adf5c47d04b9" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_c06b87ef7829b8139a530baedc" ON "chama_day" ("day") `)
    }

    async down(db) {
        await db.query(`DROP TABLE "chama"`)
        await db.query(`DROP INDEX "public"."IDX_6e1ee66789bd157367a1aa406b"`)
        await db.query(`DROP TABLE "contribution"`)
        await db.query(`DROP INDEX "public"."IDX_07037f825511a714431163d0fb"`)
        await db.query(`DROP INDEX "public"."IDX_bd05d508a31e76c0a6f2c12821"`)
        await db.query(`DROP TABLE "payout"`)
        await db.query(`DROP INDEX "public"."IDX_022f32284e1972e97501caeccb"`)
        await db.query(`DROP INDEX "public"."IDX_41f9b99c4f93731c05fa366f72"`)
        await db.query(`DROP TABLE "member"`)
        await db.query(`DROP INDEX "public"."IDX_21142d53b15bdf18b1a37905d7"`)
        await db.query(`DROP TABLE "account"`)
        await db.query(`DROP TABLE "chama_day"`)
        await db.query(`DROP INDEX "public"."IDX_c06b87ef7829b8139a530baedc"`)
    }
}
