CREATE TABLE `flow_refusals` (
	`workflow_id` text NOT NULL,
	`kind` text NOT NULL,
	`minute` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`workflow_id`, `kind`, `minute`)
);
