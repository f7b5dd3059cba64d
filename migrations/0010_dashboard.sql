CREATE TABLE `dashboard_sign_outs` (
	`session_id` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approvals_status_created` ON `approvals` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_workflow_status_created` ON `runs` (`workflow_id`,`status`,`created_at`,`id`);