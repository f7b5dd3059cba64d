CREATE TABLE `approval_audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`approval_id` text,
	`run_id` text,
	`node_id` text,
	`approver` text,
	`decision` text,
	`outcome` text NOT NULL,
	`ip` text,
	`user_agent` text,
	`at` integer NOT NULL,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `approval_audit_run` ON `approval_audit` (`run_id`,`at`);--> statement-breakpoint
CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`run_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`node_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`round` integer NOT NULL,
	`kind` text NOT NULL,
	`purpose` text NOT NULL,
	`approver` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`decision` text,
	`status` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `approvals_token_hash_unique` ON `approvals` (`token_hash`);--> statement-breakpoint
CREATE INDEX `approvals_run` ON `approvals` (`run_id`,`node_id`);--> statement-breakpoint
CREATE TABLE `email_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`node_id` text NOT NULL,
	`purpose` text NOT NULL,
	`from_address` text NOT NULL,
	`to_address` text NOT NULL,
	`subject` text NOT NULL,
	`links` text NOT NULL,
	`text_body` text,
	`html_body` text,
	`adapter` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE INDEX `email_outbox_created` ON `email_outbox` (`created_at`);--> statement-breakpoint
CREATE INDEX `email_outbox_run` ON `email_outbox` (`run_id`);