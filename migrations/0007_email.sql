CREATE TABLE `email_rejections` (
	`id` text PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL,
	`from_address` text NOT NULL,
	`to_address` text NOT NULL,
	`message_id` text,
	`workflow_id` text,
	`code` text NOT NULL,
	`reason` text NOT NULL,
	`size` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `email_rejections_received` ON `email_rejections` (`received_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `trigger_subscriptions_email` ON `trigger_subscriptions` (`key`) WHERE kind = 'email';