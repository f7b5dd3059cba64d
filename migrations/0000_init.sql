CREATE TABLE `context_versions` (
	`run_id` text NOT NULL,
	`version` integer NOT NULL,
	`node_id` text,
	`patch` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `dedup_keys` (
	`workflow_id` text NOT NULL,
	`key` text NOT NULL,
	`run_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`workflow_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`trigger_type` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`error_code` text,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `runs_created` ON `runs` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_workflow_created` ON `runs` (`workflow_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_status_created` ON `runs` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `steps` (
	`run_id` text NOT NULL,
	`node_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`error_code` text,
	`error` text,
	`context_version` integer,
	`history` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `node_id`)
);
--> statement-breakpoint
CREATE TABLE `workflow_versions` (
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`workflow_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `workflows` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`latest_version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
