package admin

import (
	"github.com/dialtone/dialtone/store"
)

// Staged firmware: a model's new firmware goes to a chosen set of its phones first
// (store.ModelProfile.StageFirmware, StagedMAC), the others keep the target; rollout
// gives it to everyone, rollback goes back. The phones learn it from their own config
// file on their next fetch (a remote resync, POST …/phones/actions, brings that forward).

type stageBody struct {
	Firmware string   `json:"firmware"`
	MACs     []string `json:"macs"`
	Percent  int      `json:"percent"`
}

// targetFirmware: POST …/models/{model}/firmware/target {"firmware"} (phones.manage):
// the file becomes the target of every phone of the model ("" none), leaving the
// model's settings alone; the old target is kept for rollback.
func (a *API) targetFirmware(r *request) (any, error) {
	sc, m, err := r.phoneModel()
	if err != nil {
		return nil, err
	}
	var in struct {
		Firmware string `json:"firmware"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return a.changeModelFirmware(r, sc, m, "model.firmware_target", func(tx *store.Tx, mp *store.ModelProfile) error {
		if err := firmwareForModel(tx, sc.tenant, m, "firmware", in.Firmware); err != nil {
			return err
		}
		if mp.Firmware != in.Firmware {
			mp.PreviousFirmware, mp.Firmware = mp.Firmware, in.Firmware
		}
		return nil
	})
}

// stageFirmware: POST …/models/{model}/firmware/stage {"firmware", "macs":[…]} or
// {"firmware", "percent":N} (phones.manage). Listed MACs must be phones of the tenant;
// a percentage picks phones by MAC hash, so the same ones stay in as it grows.
func (a *API) stageFirmware(r *request) (any, error) {
	sc, m, err := r.phoneModel()
	if err != nil {
		return nil, err
	}
	var in stageBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.Firmware == "" {
		return nil, badRequest("firmware", "name the firmware file to stage")
	}
	if (len(in.MACs) > 0) == (in.Percent != 0) {
		return nil, badRequest("macs", `give either "macs" (a list) or "percent" (1 to 100)`)
	}
	if in.Percent < 0 || in.Percent > 100 {
		return nil, badRequest("percent", "a percentage is 1 to 100")
	}
	if len(in.MACs) > store.MaxStageMACs {
		return nil, badRequest("macs", "at most 1000 MACs; stage a percentage for more")
	}
	return a.changeModelFirmware(r, sc, m, "model.firmware_stage", func(tx *store.Tx, mp *store.ModelProfile) error {
		if err := firmwareForModel(tx, sc.tenant, m, "firmware", in.Firmware); err != nil {
			return err
		}
		if in.Firmware == mp.Firmware {
			return problem(409, "conflict", "firmware", "firmware "+in.Firmware+" is the model's target already")
		}
		macs := make([]string, 0, len(in.MACs))
		for _, raw := range in.MACs {
			mac, ok := store.NormalizeMAC(raw)
			if !ok {
				return badRequest("macs", "not a MAC address: "+raw)
			}
			if _, err := tx.TenantPhone(sc.tenant, mac); err != nil {
				if isNotFound(err) {
					return badRequest("macs", "not a phone of this tenant: "+mac)
				}
				return err
			}
			macs = append(macs, mac)
		}
		mp.StageFirmware, mp.StageMACs, mp.StagePercent = in.Firmware, macs, in.Percent
		return nil
	})
}

// rolloutFirmware: POST …/models/{model}/firmware/rollout (phones.manage): the staged
// firmware becomes the target of every phone of the model; the old target is kept for
// rollback.
func (a *API) rolloutFirmware(r *request) (any, error) {
	sc, m, err := r.phoneModel()
	if err != nil {
		return nil, err
	}
	return a.changeModelFirmware(r, sc, m, "model.firmware_rollout", func(tx *store.Tx, mp *store.ModelProfile) error {
		if mp.StageFirmware == "" {
			return problem(409, "conflict", "firmware", "nothing staged for "+m.Name+": POST …/firmware/stage first")
		}
		mp.PreviousFirmware, mp.Firmware = mp.Firmware, mp.StageFirmware
		mp.StageFirmware, mp.StageMACs, mp.StagePercent = "", nil, 0
		return nil
	})
}

// rollbackFirmware: POST …/models/{model}/firmware/rollback (phones.manage): a stage in
// progress is dropped (its phones go back to the target); without one, the target goes
// back to the previous one.
func (a *API) rollbackFirmware(r *request) (any, error) {
	sc, m, err := r.phoneModel()
	if err != nil {
		return nil, err
	}
	return a.changeModelFirmware(r, sc, m, "model.firmware_rollback", func(tx *store.Tx, mp *store.ModelProfile) error {
		switch {
		case mp.StageFirmware != "":
			mp.StageFirmware, mp.StageMACs, mp.StagePercent = "", nil, 0
		case mp.PreviousFirmware != "" || mp.Firmware != "":
			if mp.PreviousFirmware != "" {
				if _, err := tx.Firmware(sc.tenant, mp.PreviousFirmware); isNotFound(err) {
					return problem(409, "conflict", "firmware", "the previous firmware "+mp.PreviousFirmware+" was deleted")
				}
			}
			mp.Firmware, mp.PreviousFirmware = mp.PreviousFirmware, ""
		default:
			return problem(409, "conflict", "firmware", "nothing to roll back for "+m.Name)
		}
		return nil
	})
}

// changeModelFirmware applies change to the model's profile in one transaction and
// audits it with the firmware fields before and after.
func (a *API) changeModelFirmware(r *request, sc *scope, m store.PhoneModel, action string, change func(*store.Tx, *store.ModelProfile) error) (any, error) {
	var v modelView
	err := a.update(func(tx *store.Tx) error {
		prev, err := tx.ModelProfile(sc.tenant, m.Make, m.Name)
		if err != nil && !isNotFound(err) {
			return err
		}
		next := prev
		next.Tenant, next.Make, next.Model = sc.tenant, m.Make, m.Name
		next.StageMACs = append([]string(nil), prev.StageMACs...)
		if err := change(tx, &next); err != nil {
			return err
		}
		if err := tx.SaveModelProfile(next); err != nil {
			return err
		}
		if next, err = tx.ModelProfile(sc.tenant, m.Make, m.Name); err != nil {
			return err
		}
		v = newModelView(m, next)
		before := newModelView(m, prev)
		return r.audit(tx, sc.tenant, action, "model/"+m.Make+"/"+m.Name, "", before.firmwareFields(), v.firmwareFields())
	})
	return v, err
}

func (v modelView) firmwareFields() map[string]any {
	return map[string]any{"firmware": v.Firmware, "stage": v.Stage, "previous_firmware": v.PreviousFirmware}
}
