"""Large exports prepared in the background (table ``export_jobs``): the requests, their
lifecycle (queued, running, done or failed, then expired) and who may fetch them."""
