package admin

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // PNG uploads
	"net/http"

	"github.com/dialtone/dialtone/store"
)

// Photos: JPEG or PNG, at most MaxPhotoBody, checked by decoding, scaled to at most
// photoEdge pixels and stored as JPEG (the form LDAP's jpegPhoto carries).
const (
	photoEdge = 256
	// maxPhotoSide bounds an upload's width and height, read from its header before
	// anything is decoded: a 2 MiB PNG can claim a picture of gigabytes.
	maxPhotoSide = 4096
)

// photoTarget loads the user of {id} and checks that the caller may change their photo:
// self.manage for their own, users.manage over anyone else not ranked above them.
func (a *API) photoTarget(tx *store.Tx, r *request, sc *scope) (store.User, error) {
	u, err := tx.User(sc.tenant, r.param("id"))
	if err != nil {
		return u, err
	}
	if u.ID == sc.self.ID && u.Tenant == sc.self.Tenant {
		return u, sc.need(store.PermSelfManage)
	}
	if err := sc.needOn(store.PermUsersManage, u); err != nil {
		return u, err
	}
	if u.Role.Rank() > sc.rank {
		return u, forbidden("you cannot change the photo of a user whose role is above yours")
	}
	return u, nil
}

// putPhoto: PUT …/users/{id}/photo, body image/jpeg or image/png. The caller's right is
// checked before a byte of the image is decoded, and the header's size before the
// pixels: over maxPhotoSide a side is 422.
func (a *API) putPhoto(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if err := a.view(func(tx *store.Tx) error { _, err := a.photoTarget(tx, r, sc); return err }); err != nil {
		return nil, err
	}
	body := r.ctx.Request.Body()
	ct := http.DetectContentType(body)
	if ct != "image/jpeg" && ct != "image/png" {
		return nil, badRequest("photo", "the body must be a JPEG or PNG image")
	}
	out, err := scalePhoto(body)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		u, err := a.photoTarget(tx, r, sc)
		if err != nil {
			return err
		}
		if err := tx.SavePhoto(sc.tenant, u.ID, out); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "user.photo", "user/"+u.ID, u.ID, nil,
			map[string]any{"photo_bytes": len(out)})
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// getPhoto: GET …/users/{id}/photo (directory.read), as image/jpeg.
func (a *API) getPhoto(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDirectoryRead)
	if err != nil {
		return nil, err
	}
	var b []byte
	if err := a.view(func(tx *store.Tx) (err error) { b, err = tx.Photo(sc.tenant, r.param("id")); return err }); err != nil {
		return nil, err
	}
	return rawAnswer{contentType: "image/jpeg", body: b}, nil
}

// deletePhoto: DELETE …/users/{id}/photo.
func (a *API) deletePhoto(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		u, err := a.photoTarget(tx, r, sc)
		if err != nil {
			return err
		}
		if err := tx.DeletePhoto(sc.tenant, u.ID); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "user.photo_delete", "user/"+u.ID, u.ID, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// scalePhoto decodes an upload and re-encodes it as a JPEG of at most photoEdge pixels a
// side (area-averaged, so a photo stays a photo).
func scalePhoto(b []byte) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, badRequest("photo", "the image does not decode: "+err.Error())
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, badRequest("photo", "the image is empty")
	}
	if cfg.Width > maxPhotoSide || cfg.Height > maxPhotoSide {
		return nil, problem(422, "unprocessable", "photo", fmt.Sprintf(
			"the image is %d×%d pixels; at most %d×%d are accepted", cfg.Width, cfg.Height, maxPhotoSide, maxPhotoSide))
	}
	src, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, badRequest("photo", "the image does not decode: "+err.Error())
	}
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	if w > photoEdge || h > photoEdge {
		if w >= h {
			w, h = photoEdge, max(1, h*photoEdge/sb.Dx())
		} else {
			w, h = max(1, w*photoEdge/sb.Dy()), photoEdge
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := sb.Min.Y+y*sb.Dy()/h, sb.Min.Y+max((y+1)*sb.Dy()/h, y*sb.Dy()/h+1)
		for x := 0; x < w; x++ {
			x0, x1 := sb.Min.X+x*sb.Dx()/w, sb.Min.X+max((x+1)*sb.Dx()/w, x*sb.Dx()/w+1)
			var rs, gs, bs, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					r, g, b, _ := src.At(sx, sy).RGBA()
					rs, gs, bs, n = rs+uint64(r), gs+uint64(g), bs+uint64(b), n+1
				}
			}
			dst.SetRGBA(x, y, color.RGBA{uint8(rs / n >> 8), uint8(gs / n >> 8), uint8(bs / n >> 8), 255})
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
