CREATE TABLE `run_operations` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`operation` text NOT NULL,
	`at` integer NOT NULL,
	`related_run_id` text,
	`bulk_id` text,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `run_operations_run` ON `run_operations` (`run_id`,`at`);--> statement-breakpoint
CREATE INDEX `run_operations_related` ON `run_operations` (`related_run_id`);