ALTER TABLE `runs` ADD `llm_input_tokens` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `llm_output_tokens` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `llm_cost_usd` real DEFAULT 0 NOT NULL;