CREATE TABLE `schedules` (
	`workflow_id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`cron` text NOT NULL,
	`timezone` text,
	`missed` text NOT NULL,
	`catch_up_limit` integer NOT NULL,
	`armed_version` integer,
	`next_at` integer,
	`last_tick_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `schedules_next` ON `schedules` (`next_at`);--> statement-breakpoint
CREATE TABLE `trigger_subscriptions` (
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`workflow_id` text NOT NULL,
	`trigger_index` integer NOT NULL,
	PRIMARY KEY(`kind`, `key`, `workflow_id`, `trigger_index`)
);
--> statement-breakpoint
CREATE INDEX `trigger_subscriptions_workflow` ON `trigger_subscriptions` (`workflow_id`);--> statement-breakpoint
ALTER TABLE `workflows` ADD `disabled_at` integer;--> statement-breakpoint
ALTER TABLE `workflows` ADD `deleted_at` integer;