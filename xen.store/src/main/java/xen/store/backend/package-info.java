/**
 * XenStore wired to the host's domains: a DS component that, through the api only, gives each
 * domain its tree and serves its ring. Nothing is exported.
 */
package xen.store.backend;
