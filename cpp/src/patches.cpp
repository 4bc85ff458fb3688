// CHW patch extraction for image exports (filled in with the image export).
