CREATE TABLE `run_counts` (
	`workflow_id` text NOT NULL,
	`status` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`workflow_id`, `status`)
);
--> statement-breakpoint
INSERT INTO `run_counts` (`workflow_id`, `status`, `count`)
  SELECT `workflow_id`, `status`, COUNT(*) FROM `runs` GROUP BY `workflow_id`, `status`;
--> statement-breakpoint
CREATE TRIGGER `runs_count_insert` AFTER INSERT ON `runs` BEGIN
  INSERT INTO `run_counts` (`workflow_id`, `status`, `count`) VALUES (NEW.`workflow_id`, NEW.`status`, 1)
    ON CONFLICT (`workflow_id`, `status`) DO UPDATE SET `count` = `count` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `runs_count_delete` AFTER DELETE ON `runs` BEGIN
  UPDATE `run_counts` SET `count` = `count` - 1 WHERE `workflow_id` = OLD.`workflow_id` AND `status` = OLD.`status`;
END;
--> statement-breakpoint
CREATE TRIGGER `runs_count_update` AFTER UPDATE OF `workflow_id`, `status` ON `runs`
  WHEN OLD.`workflow_id` IS NOT NEW.`workflow_id` OR OLD.`status` IS NOT NEW.`status` BEGIN
  UPDATE `run_counts` SET `count` = `count` - 1 WHERE `workflow_id` = OLD.`workflow_id` AND `status` = OLD.`status`;
  INSERT INTO `run_counts` (`workflow_id`, `status`, `count`) VALUES (NEW.`workflow_id`, NEW.`status`, 1)
    ON CONFLICT (`workflow_id`, `status`) DO UPDATE SET `count` = `count` + 1;
END;
