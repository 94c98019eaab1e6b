package taskdef

import (
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/wire"
)

// checkVolumes checks the task's volumes: names are optional (ECS requires
// one only for EFS volumes and volumes configured at launch [doc]) but must
// be valid and unique, and a volume has at most one type.
func (d *def) checkVolumes() *ecs.Error {
	d.volumes = make(map[string]*wire.Volume, len(d.in.Volumes))
	for i := range d.in.Volumes {
		v := &d.in.Volumes[i]
		name := wire.Val(v.Name)
		if name == "" {
			if v.EfsVolumeConfiguration != nil || wire.Val(v.ConfiguredAtLaunch) {
				return clientErr(msgVolumeNameBlank)
			}
		} else {
			if !validName(name) {
				return clientErr(msgVolumeNameChars)
			}
			if d.volumes[name] != nil {
				return clientErrf(fmtDuplicateVolume, name)
			}
			d.volumes[name] = v
		}
		if volumeTypes(v) > 1 {
			return clientErrf(fmtVolumeTypes, name)
		}
	}
	return nil
}

// volumeTypes counts the volume type configurations v carries.
func volumeTypes(v *wire.Volume) int {
	n := 0
	for _, set := range [...]bool{
		v.Host != nil,
		v.DockerVolumeConfiguration != nil,
		v.EfsVolumeConfiguration != nil,
		v.FsxWindowsFileServerVolumeConfiguration != nil,
		v.S3filesVolumeConfiguration != nil,
	} {
		if set {
			n++
		}
	}
	return n
}

// checkMounts checks c's mountPoints against the task's volumes and its
// volumesFrom against the task's containers.
func (d *def) checkMounts(c *wire.ContainerDefinition) *ecs.Error {
	for _, mp := range c.MountPoints {
		if mp.SourceVolume == nil {
			return clientErrf(fmtUnknownVolume, "null")
		}
		if d.volumes[*mp.SourceVolume] == nil {
			return clientErrf(fmtUnknownVolume, *mp.SourceVolume)
		}
		if wire.Val(mp.ContainerPath) == "" {
			return clientErrf(fmtMountContainerPath, wire.Val(c.Name))
		}
	}
	for _, vf := range c.VolumesFrom {
		if vf.SourceContainer == nil {
			return clientErrf(fmtVolumesFromUnknown, "null")
		}
		if d.containers[*vf.SourceContainer] == nil {
			return clientErrf(fmtVolumesFromUnknown, *vf.SourceContainer)
		}
	}
	return nil
}
