"""Payments: requests (web and API), their fields, approvals, exactly-once execution, bulk
decisions and the approval queue."""
