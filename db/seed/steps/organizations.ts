// Demo organizations: two cooperative groups with their stations, four packaging suppliers with
// their sites, and a primary contact for each. Written through the organizations service (as the
// platform), so the demo data obeys the same rules as data created over the API. Later steps
// (users, catalog, orders) find the rows through ctx.ids under the keys exported below.
import type { SeedContext } from '../context.js'
import type { Db } from '../../../src/db/index.js'
import { PLATFORM_ORGANIZATION_ID, type Actor } from '../../../src/lib/permissions.js'
import { createContact } from '../../../src/domains/organizations/contacts.service.js'
import { createStationGroup } from '../../../src/domains/organizations/groups.service.js'
import { createStation } from '../../../src/domains/organizations/stations.service.js'
import { createSupplier } from '../../../src/domains/organizations/suppliers.service.js'

/** The seed acts as the platform; no user row stands behind it. */
const SEED_ACTOR: Actor = { userId: '00000000-0000-7000-8000-000000005eed', role: 'ADMIN', organizationId: PLATFORM_ORGANIZATION_ID, organizationKind: 'PLATFORM' }

const GROUPS = [
  { key: 'group:val-de-loire', name: 'Coopérative Val de Loire', description: 'Stations fruitières d\'Anjou et de Touraine' },
  { key: 'group:provence', name: 'Coopérative Provence', description: 'Stations du Vaucluse' }
] as const

const STATIONS = [
  { code: 'ST-ANJOU', name: 'Station Anjou', group: 'group:val-de-loire', line1: '12 route des Vergers', postalCode: '49000', city: 'Angers', phone: '+33 2 41 00 10 00', contact: ['Claire Moreau', 'Responsable logistique'] },
  { code: 'ST-SAUMUR', name: 'Station Saumur', group: 'group:val-de-loire', line1: '4 quai des Mariniers', postalCode: '49400', city: 'Saumur', phone: '+33 2 41 00 20 00', contact: ['Julien Bernard', 'Chef de station'] },
  { code: 'ST-TOURS', name: 'Station Tours', group: 'group:val-de-loire', line1: '27 avenue de Grammont', postalCode: '37000', city: 'Tours', phone: '+33 2 47 00 30 00', contact: ['Sophie Lambert', 'Acheteuse'] },
  { code: 'ST-AVIGNON', name: 'Station Avignon', group: 'group:provence', line1: '8 chemin des Félibres', postalCode: '84000', city: 'Avignon', phone: '+33 4 90 00 40 00', contact: ['Marc Garnier', 'Responsable approvisionnement'] },
  { code: 'ST-CAVAILLON', name: 'Station Cavaillon', group: 'group:provence', line1: '3 rue du Marché-Gare', postalCode: '84300', city: 'Cavaillon', phone: '+33 4 90 00 50 00', contact: ['Laure Fabre', 'Cheffe de quai'] }
] as const

const SUPPLIERS = [
  {
    key: 'supplier:cartonnerie-du-val',
    name: 'Cartonnerie du Val',
    siret: '41234567800019',
    email: 'commandes@cartonnerie-du-val.example',
    phone: '+33 2 41 50 00 00',
    website: 'https://cartonnerie-du-val.example',
    city: 'Saumur',
    postalCode: '49400',
    sites: [{ name: 'Usine de Saumur', city: 'Saumur', postalCode: '49400', isPrimary: true }, { name: 'Dépôt d\'Angers', city: 'Angers', postalCode: '49100' }],
    contact: ['Hélène Durand', 'Administration des ventes', 'adv@cartonnerie-du-val.example']
  },
  {
    key: 'supplier:plastiques-de-l-ouest',
    name: 'Plastiques de l\'Ouest',
    siret: '52345678900027',
    email: 'orders@plastiques-ouest.example',
    phone: '+33 2 40 60 00 00',
    website: 'https://plastiques-ouest.example',
    city: 'Cholet',
    postalCode: '49300',
    sites: [{ name: 'Site de thermoformage', city: 'Cholet', postalCode: '49300', isPrimary: true }],
    contact: ['Thomas Petit', 'Commercial grands comptes', 'thomas.petit@plastiques-ouest.example']
  },
  {
    key: 'supplier:emballages-provence',
    name: 'Emballages Provence',
    siret: '63456789000035',
    email: 'contact@emballages-provence.example',
    phone: '+33 4 90 70 00 00',
    website: 'https://emballages-provence.example',
    city: 'Carpentras',
    postalCode: '84200',
    sites: [{ name: 'Atelier de Carpentras', city: 'Carpentras', postalCode: '84200', isPrimary: true }, { name: 'Entrepôt de Cavaillon', city: 'Cavaillon', postalCode: '84300' }],
    contact: ['Nadia Roux', 'Responsable commerciale', 'n.roux@emballages-provence.example']
  },
  {
    key: 'supplier:films-and-co',
    name: 'Films & Co',
    siret: '74567890100043',
    email: 'sales@films-and-co.example',
    phone: '+33 2 43 80 00 00',
    website: 'https://films-and-co.example',
    city: 'Le Mans',
    postalCode: '72000',
    sites: [{ name: 'Usine d\'extrusion', city: 'Le Mans', postalCode: '72000', isPrimary: true }],
    contact: ['Pierre Lefèvre', 'Service clients', 'service.clients@films-and-co.example']
  }
] as const

/** ctx.ids keys of the demo station groups. */
export const DEMO_GROUPS = GROUPS.map(g => g.key)
/** ctx.ids keys of the demo stations (`station:<code>`). */
export const DEMO_STATIONS = STATIONS.map(s => `station:${s.code}` as const)
/** ctx.ids keys of the demo suppliers (`supplier:<slug>`). */
export const DEMO_SUPPLIERS = SUPPLIERS.map(s => s.key)

export async function seedOrganizations (db: Db, ctx: SeedContext): Promise<void> {
  for (const g of GROUPS) {
    const group = await createStationGroup(db, SEED_ACTOR, { name: g.name, description: g.description })
    ctx.ids[g.key] = group.id
  }
  for (const s of STATIONS) {
    const station = await createStation(db, SEED_ACTOR, {
      code: s.code,
      name: s.name,
      groupId: ctx.ids[s.group] ?? null,
      address: { line1: s.line1, postalCode: s.postalCode, city: s.city, country: 'FR' },
      phone: s.phone,
      email: `contact@${s.code.toLowerCase()}.example`
    })
    ctx.ids[`station:${s.code}`] = station.id
    await createContact(db, SEED_ACTOR, station.id, { fullName: s.contact[0], position: s.contact[1], email: `logistique@${s.code.toLowerCase()}.example`, phone: s.phone, isPrimary: true })
  }
  for (const s of SUPPLIERS) {
    const supplier = await createSupplier(db, SEED_ACTOR, {
      name: s.name,
      siret: s.siret,
      email: s.email,
      phone: s.phone,
      website: s.website,
      address: { city: s.city, postalCode: s.postalCode, country: 'FR' },
      sites: s.sites.map(site => ({ name: site.name, isPrimary: 'isPrimary' in site, address: { city: site.city, postalCode: site.postalCode, country: 'FR' } }))
    })
    ctx.ids[s.key] = supplier.id
    const primary = supplier.sites.find(site => site.isPrimary)
    if (primary !== undefined) ctx.ids[`site:${s.key.slice('supplier:'.length)}`] = primary.id
    await createContact(db, SEED_ACTOR, supplier.id, { fullName: s.contact[0], position: s.contact[1], email: s.contact[2], phone: s.phone, isPrimary: true })
  }
}
