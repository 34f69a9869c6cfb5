/**
 * Save/restore of a guest domain: {@link xen.evtchn.impl.save.DomainImage}, everything a save
 * takes, as values, and {@link xen.evtchn.impl.save.SaveStream}, its versioned binary form:
 * typed records since version 3, one class per record (docs/SAVE-RESTORE.md describes it byte
 * by byte).
 */
package xen.evtchn.impl.save;
