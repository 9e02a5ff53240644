"""Results: the typed run record, the run store, the main job, the leaderboard, publishing."""
