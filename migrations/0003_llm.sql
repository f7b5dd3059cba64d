CREATE TABLE `llm_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`model` text NOT NULL,
	`answer` text NOT NULL,
	`created_at` integer NOT NULL
);
