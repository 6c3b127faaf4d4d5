"""The publishing engine: claim due targets, pass the send gate, publish, record, reconcile."""
