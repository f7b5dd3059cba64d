ALTER TABLE `runs` ADD `delete_after` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `held_at` integer;--> statement-breakpoint
CREATE INDEX `runs_delete_after` ON `runs` (`delete_after`,`id`) WHERE delete_after IS NOT NULL AND held_at IS NULL;