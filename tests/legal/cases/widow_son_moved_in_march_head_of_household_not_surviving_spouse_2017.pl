% Text
% Wren married Hal on 2004-05-22; Hal died on April 10th, 2016. Their son Sid, born
% 2008-01-15, lived with his grandmother Gia in her house until February 28th, 2017 and has
% lived with Wren in Wren's house since March 1st, 2017. Wren pays all the costs of her house
% ($15000 in 2017). Wren earned $60000 in 2017 and takes the standard deduction.
% By hand: Hal died in 2016, one of the two years before 2017 (§2(a)(1)(A)), but Wren's
% household is the principal place of abode of Sid from March 1st only, not "for the taxable
% year" (§2(a)(1)(B)): she is no surviving spouse. She is not married at the close of 2017
% (§2(b)(2)(C) reaches a spouse who died during the taxable year only), and her house is
% Sid's principal place of abode for 306 days, more than one-half of 2017: Sid is her
% qualifying child (son, same abode over half the year, 9 years old), so she is a head of
% household (§2(b)(1)(A)(i)). Basic standard deduction $4,400 (§63(c)(2)(B)); exemptions Wren
% and Sid $4,000. Taxable income $60,000 - $4,400 - $4,000 = $51,600; §1(b)(ii): $4,440 + 28%
% of ($51,600 - $29,600) = $4,440 + $6,160 = $10,600.

% Question
% How much tax does Wren have to pay in 2017? $10600

% Facts
:- [statutes/prolog/init].
marriage_(wren_hal).
agent_(wren_hal,wren).
agent_(wren_hal,hal).
start_(wren_hal,"2004-05-22").
death_(hal_died).
agent_(hal_died,hal).
start_(hal_died,"2016-04-10").
son_(sid_son).
agent_(sid_son,sid).
patient_(sid_son,wren).
patient_(sid_son,hal).
start_(sid_son,"2008-01-15").
residence_(sid_at_gia).
agent_(sid_at_gia,sid).
agent_(sid_at_gia,gia).
patient_(sid_at_gia,gia_house).
start_(sid_at_gia,"2016-04-11").
end_(sid_at_gia,"2017-02-28").
residence_(wren_home).
agent_(wren_home,wren).
patient_(wren_home,wren_house).
start_(wren_home,"2004-05-22").
residence_(sid_at_wren).
agent_(sid_at_wren,sid).
patient_(sid_at_wren,wren_house).
start_(sid_at_wren,"2017-03-01").
payment_(wren_house_costs).
agent_(wren_house_costs,wren).
purpose_(wren_house_costs,wren_house).
amount_(wren_house_costs,15000).
start_(wren_house_costs,"2017-06-01").
income_(wren_wages).
agent_(wren_wages,wren).
amount_(wren_wages,60000).
start_(wren_wages,"2017-12-31").

% Test
:- tax(wren,2017,10600).
:- halt.
