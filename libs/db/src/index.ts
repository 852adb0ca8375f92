export {
  describeDatabaseError,
  loadMigrations,
  type Migration,
  MigrationError,
  type MigrationResult,
  migrate,
} from "./Migrator.js";
