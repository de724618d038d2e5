"""Reports over plain records: pipeline, forecast, changes, the dashboard page, the quote
document."""
