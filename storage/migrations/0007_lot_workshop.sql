-- The reconditioning workshop a lot is sent to: its reconditioners erase and certify it, and
-- no other workshop may. Lots declared before this migration go to the network's first
-- reconditioning workshop (until then every reconditioner could act on every lot).
ALTER TABLE lots ADD COLUMN workshop_id INTEGER REFERENCES places(id) ON DELETE SET NULL;
UPDATE lots SET workshop_id = CASE
    WHEN (SELECT kind FROM places WHERE id = lots.place_id) = 'reconditioner' THEN place_id
    ELSE (SELECT min(id) FROM places WHERE kind = 'reconditioner') END;
CREATE INDEX lots_workshop ON lots(workshop_id) WHERE workshop_id IS NOT NULL;
CREATE INDEX lots_place ON lots(place_id) WHERE place_id IS NOT NULL;
