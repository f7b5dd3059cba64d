CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_id` text,
	`actor_name` text,
	`action` text NOT NULL,
	`workflow_id` text,
	`run_id` text,
	`status` integer NOT NULL,
	`code` text,
	`ip` text,
	`user_agent` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_log_actor` ON `audit_log` (`actor_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_log_run` ON `audit_log` (`run_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_log_workflow` ON `audit_log` (`workflow_id`,`seq`);--> statement-breakpoint
CREATE TRIGGER `audit_log_append_only` BEFORE UPDATE ON `audit_log` BEGIN SELECT RAISE(ABORT, 'audit_log entries are append-only'); END;--> statement-breakpoint
ALTER TABLE `runs` ADD `delete_after` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `held_at` integer;--> statement-breakpoint
CREATE INDEX `runs_delete_after` ON `runs` (`delete_after`,`id`) WHERE delete_after IS NOT NULL AND held_at IS NULL;