-- Resumes a paused queue: deletes N_paused, then tells the workers that sit the pause out.
--
-- KEYS[1]  N_paused  string: exists while the queue is paused
-- ARGV[1]  the queue's wake channel (N_wake)
--
-- The message `resume` on the wake channel ends the workers' wait at once; without it (lost
-- during a reconnect, refused by an ACL) they find the key gone at their next look, at most a
-- dequeueTimeout later. It is sent even when the key was gone already (deleted by hand, say),
-- so that a resume always wakes. A refused PUBLISH must not fail a resume that deleted the
-- key: pcall, and its error is dropped. Returns 1 if the queue was paused, else 0.
local deleted = redis.call('DEL', KEYS[1])
redis.pcall('PUBLISH', ARGV[1], 'resume')
return deleted
