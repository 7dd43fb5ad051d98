% Text
% Tara and Ugo married on 2005-05-05 and lived with their daughter Vi (born 2012-08-08) in Tara's
% house on Fir Lane, whose costs Tara alone pays ($14,000 in 2017). Ugo died on 2017-03-15,
% having earned $10,000 in 2017. Tara does not file a joint return for 2017; she earned $60,000
% and takes the standard deduction.
% By hand: Tara is married as of Ugo's death (§7703(a)(1)). §7703(b): she files a separate
% return, keeps as her home a household that is Vi's principal place of abode all year, Vi being
% her qualifying child and dependent, furnishes all its cost, and during the last 6 months of 2017
% her spouse, dead since March, is not a member of it: she "shall not be considered as married".
% Ugo died in 2017, not in one of the two preceding years: no surviving spouse (§2(a)(1)(A)).
% §2(b)(2)(C) considers her married at the close of 2017 (her spouse died during the year): no
% head of household. So §1(c): standard deduction $3,000, exemptions for Tara and Vi $4,000
% (none for Ugo, who had income); taxable income $53,000; §1(c)(ii): $3,315 + 28% of $30,900 =
% $11,967.

% Question
% How much tax does Tara have to pay in 2017? $11967

% Facts
:- [statutes/prolog/init].
marriage_(tara_ugo).
agent_(tara_ugo,tara).
agent_(tara_ugo,ugo).
start_(tara_ugo,"2005-05-05").
death_(ugo_dies).
agent_(ugo_dies,ugo).
start_(ugo_dies,"2017-03-15").
daughter_(vi_daughter).
agent_(vi_daughter,vi).
patient_(vi_daughter,tara).
patient_(vi_daughter,ugo).
start_(vi_daughter,"2012-08-08").
residence_(fir_lane_home).
agent_(fir_lane_home,tara).
agent_(fir_lane_home,ugo).
agent_(fir_lane_home,vi).
patient_(fir_lane_home,fir_lane_house).
start_(fir_lane_home,"2012-08-08").
payment_(tara_house_costs).
agent_(tara_house_costs,tara).
purpose_(tara_house_costs,fir_lane_house).
amount_(tara_house_costs,14000).
start_(tara_house_costs,"2017-02-01").
income_(ugo_wages).
agent_(ugo_wages,ugo).
amount_(ugo_wages,10000).
start_(ugo_wages,"2017-03-01").
income_(tara_wages).
agent_(tara_wages,tara).
amount_(tara_wages,60000).
start_(tara_wages,"2017-12-31").

% Test
:- tax(tara,2017,11967).
:- halt.
