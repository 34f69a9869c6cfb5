package xen.evtchn.impl.evtchn;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/** A fresh {@link EvtchnFixture} for every test, and its usual guest: domain 1 with two vCPUs. */
abstract class EvtchnTestBase {
    EvtchnFixture fx;

    @BeforeEach
    void setUpFixture() {
        fx = new EvtchnFixture();
    }

    @AfterEach
    void closeFixture() {
        fx.close();
    }

    Guest guest(GuestWidth w) {
        return fx.guest(1, w, 2);
    }
}
