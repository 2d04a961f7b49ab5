"""The Countly dialect: `/i`, `/i/bulk`, `/o`, `/o/analytics/*` and `/o/sdk` translated into graph operations."""
