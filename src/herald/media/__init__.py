"""Media storage backends (local disk, S3) behind one MediaStore protocol, and media processing."""
